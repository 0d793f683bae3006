"""The service layer: every action a person takes, whatever face they use.

Each action (mark or assess a call, correct a review item, resolve a send in doubt, pause,
resume, cancel, purge, manage users, score, export, report) is one function here with typed
input and a typed result, or a :class:`~harness.services.base.ServiceError` whose ``code`` the
faces turn into a sentence in the user's language. A service that changes something writes its
own audit entry naming the actor it was given. The CLI (``harness.cli``) and the dashboard
(``harness.web``) only parse, call and render: neither runs the other, and nothing here prints.
"""
