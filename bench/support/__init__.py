"""Helpers of the benchmarks: tmux panes, a loopback delay proxy, the session figures."""
