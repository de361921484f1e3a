"""Pure scoring core: feature encoding with a stated contract, the learned model, reasons."""
