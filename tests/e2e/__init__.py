"""End-to-end tests: the real ``voxregen api`` and ``voxregen worker`` processes over
PostgreSQL, Redis and an S3 server, driven over plain HTTP as a client would."""
