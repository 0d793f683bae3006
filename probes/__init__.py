"""Probes: one module per channel (e-mail, phone) behind one small interface.

The channels arrive with their issues; see docs/architecture.md for the interface they share.
"""
