"""The rules a campaign is judged by, built from the settings: its calendar (working days with
the campaign's own closed days) and the timing, timeline and scoring rules. The rules themselves
are pure and live in ``results/``; this package only sets them up, once, for every reader.
"""
