"""Vietnamese first: the language is Vietnamese unless the user chose another with the switch.

Django's LocaleMiddleware would follow the browser's Accept-Language, so a phone whose system
language is English would get English pages. Here only the language cookie set by the switch
in the page header (Django's set_language view) changes the language.
"""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ChosenLanguageMiddleware(LocaleMiddleware):
    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
