"""Matching: for every pupil's need, the mentors who really fit (engine, pure), and the services
around it (suggestions written back, choices, whole-pool assignment)."""
