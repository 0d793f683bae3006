"""The campaign at work: planning, the runner and its scheduler, the evidence a campaign has
gathered (read for scores, exports and the report), operator alerts and ``kkik doctor``.
"""
