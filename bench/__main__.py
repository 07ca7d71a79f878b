"""Run every benchmark and print its figures."""

from bench import airtable_emulator


def main() -> None:
    airtable_emulator.main()


if __name__ == "__main__":
    main()
