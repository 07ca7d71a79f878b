"""Run every benchmark and print its figures."""

from bench import airtable_emulator, followup, intake, matching, matching_base


def main() -> None:
    airtable_emulator.main()
    intake.main()
    matching.main()
    matching_base.main()
    followup.main()


if __name__ == "__main__":
    main()
