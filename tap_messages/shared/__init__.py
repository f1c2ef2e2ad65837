"""What both vendors share: the REST base, retries, pacing, record checks, state, time."""
