"""The offline demo and the virtual run: a whole campaign against a simulated county on a
virtual clock, built from the same assembly point as a real run. The loopback servers it runs
against are in :mod:`harness.sandbox`.
"""
