"""Learning from routing data: golden sets, routing history and trained routers."""
