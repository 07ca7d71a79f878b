"""Run every benchmark and print its figures."""

from bench import airtable_emulator, intake


def main() -> None:
    airtable_emulator.main()
    intake.main()


if __name__ == "__main__":
    main()
