"""Performance harness: `python -m bench --help`. Keep this file empty of imports: the cold-start probe
runs inside this package, and anything imported here would be paid before its timer starts."""
