"""A bare DRF endpoint for `bench/api.py` to measure the platform's API against: one model, a
`ModelSerializer` create and a 50-row list, served by the same process, settings and database."""
