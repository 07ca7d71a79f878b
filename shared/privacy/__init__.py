"""Personal data over time: the retention of inactive people's data, and each person's rights of
access (`export`) and erasure (`erase`)."""
