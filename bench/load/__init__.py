"""The bounded loopback load test's parts: the load generator and the gateway set-up (see bench/load_test.py)."""
