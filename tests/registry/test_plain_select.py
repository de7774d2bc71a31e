"""The plain select writes the same HTML Django's select widget does, without a template per
option."""

from __future__ import annotations

from django import forms
from django.test.html import parse_html

from registry.forms import PlainSelect

CHOICES = [
    ("", "Tất cả tổ dân phố"),
    (12, "Tổ dân phố số 1"),
    (7, 'Khu "A" & <B>'),
    (30, "Thôn Đông"),
]


class _Filter(forms.Form):
    plain = forms.TypedChoiceField(required=False, coerce=int, widget=PlainSelect)
    django = forms.TypedChoiceField(required=False, coerce=int, widget=forms.Select)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("plain", "django"):
            self.fields[name].choices = CHOICES


def _same(form: _Filter) -> None:
    plain = str(form["plain"]).replace("plain", "x")
    django = str(form["django"]).replace("django", "x")
    assert parse_html(plain) == parse_html(django)


def test_unbound_and_bound_with_a_choice_render_as_django_s_select():
    _same(_Filter())
    _same(_Filter({"plain": "7", "django": "7"}))
    bound = str(_Filter({"plain": "7", "django": "7"})["plain"])
    assert '<option value="7" selected>Khu &quot;A&quot; &amp; &lt;B&gt;</option>' in bound


def test_a_value_not_offered_selects_nothing():
    form = _Filter({"plain": "99", "django": "99"})
    assert not form.is_valid()
    _same(form)
    assert "selected" not in str(form["plain"])
