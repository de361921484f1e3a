"""Pure selection of what to inspect within capacity."""
