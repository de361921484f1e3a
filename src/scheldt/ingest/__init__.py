"""Adapters in: bytes from a party become domain records or a Rejection(where, why)."""
