"""What the benchmarks share: servers run as subprocesses (``servers``), the floor servers
(``floors``), a served maintbot (``maintbot``), scratch directories and databases (``scratch``),
the closed-loop HTTP load (``load``), figures and tables (``figures``), and signed Slack slash
commands (``slash_commands``)."""
