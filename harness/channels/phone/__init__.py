"""The phone channel: its declaration (``channel``), its adapters (``adapters``: Twilio client,
call follow-up, crash lookup), the call evidence store (``store``: callbacks and tester marks),
the follow-up that completes and reconciles finished calls (``finisher``) and the call console's
view of a live call (``console``). The timeline is the pure :mod:`results.phone_timeline`.
"""
