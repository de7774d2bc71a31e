"""The rulebook, free of the ORM: what the product decides, written once.

- `evaluation`: criteria sets, evidence parsing and range checks, scoring (structured outcomes).
- `criteria_file`: the criteria-set file format, read into `evaluation.CriteriaSet`.
- `rounding`: the one rounding of every rate, share and percentage (half up, one decimal).
- `explain`: the one wording of outcomes and evidence problems, in the active language, and
  the fixed English record stored with each outcome.

Services load data and call these; pages, forms, template tags, exports and imports word and
round through them and decide nothing themselves.
"""
