"""Helpers of the benchmarks: tmux panes, /proc figures, a loopback delay proxy, the session
figures, and the databases the platform benchmarks run on."""
