"""Pure domain records of the field. No I/O, no database or web imports."""
