"""Scheldt: container targeting for customs, police and shipping lines."""

__version__ = "0.1.0"
