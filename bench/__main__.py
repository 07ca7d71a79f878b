"""Run every benchmark and print its figures."""

from bench import airtable_emulator, followup, intake, load, matching, matching_base, queue
from bench.stack import quiet_logs


def main() -> None:
    quiet_logs()
    airtable_emulator.main()
    intake.main()
    matching.main()
    matching_base.main()
    followup.main()
    queue.main()
    load.main()


if __name__ == "__main__":
    main()
