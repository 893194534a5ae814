"""The gateway: HAProxy 2.8 is the gateway itself; this package renders its config, talks to
its runtime API and runs the registrar. It imports only the kernel (docs/gateway.md).

- ``paths``: where haproxy.cfg, the server-state file and the two sockets live.
- ``slots``: slot names and the placeholder a free slot holds.
- ``config``: `render(settings)`, the whole haproxy.cfg (pure).
- ``process``: writing the config, HAProxy's command line, ``haproxy -c``.
- ``runtime``: the asyncio client of the admin socket (typed servers; assign, release,
  drain, sessions).
- ``plan``: the registrar's pure decision, registrations and slots in, actions out.
- ``registrar``: the loop applying it every ``registry.sync_interval_s``.
- ``reload``: hitless reloads (state saved, config checked, master CLI ``reload``).
- ``__main__``: ``python -m gateway [registrar|render|reload]``.
"""
