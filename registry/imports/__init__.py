"""The one spreadsheet import pipeline (`pipeline`), its cell parsers (`cells`) and its report
(`report`). Each kind of file declares its columns and its check and apply steps where its
records live: `registry.services.imports` (families, clans, communities, units, citizens),
`titles.services.imports` (registrations), `titles.services.targets` (targets)."""
