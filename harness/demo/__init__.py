"""The offline demo and the virtual run: a whole campaign against a simulated county on a
virtual clock, built from the same assembly point as a real run. The loopback servers it runs
against are in :mod:`harness.sandbox`.

The run (``kkik demo``):

* :mod:`~harness.demo.run`: :class:`~harness.demo.run.Demo`, which sets a run up and drives it;
* :mod:`~harness.demo.run_config`: the loopback servers' names and secrets, and the
  ``config.toml`` and ``scenario.toml`` a run writes;
* :mod:`~harness.demo.phone_side`: the switchboards the Twilio simulator dials and the scripted
  testers who mark and assess the calls;
* :mod:`~harness.demo.verdict`: the measured scores against the world's truth.

The simulated world (pure):

* :mod:`~harness.demo.world`: the world file's model and :func:`~harness.demo.world.load_world`;
* :mod:`~harness.demo.world_generate`: a world built in code from a seed (scale runs);
* :mod:`~harness.demo.world_mail`: the mails a municipality sends back to one question, and the
  truth;
* :mod:`~harness.demo.mail_model`: the question, the mails and the e-mail truth's types;
* :mod:`~harness.demo.mail_writer` and :mod:`~harness.demo.mail_text`: the mails' writer and
  the Swedish text it draws from;
* :mod:`~harness.demo.world_calls`: one call's behaviour under a phone profile;
* :mod:`~harness.demo.business_time`: "this instant + N business hours".

:mod:`~harness.demo.virtual_run` is the real runner on a jumping clock (crash tests).
"""
