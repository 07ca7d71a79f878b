"""Google Cloud deployment of binome: a pure planner (`plan.py`) that turns the settings into an
ordered list of steps, and a thin runner (`runner.py`) that prints them (`DRY_RUN=1`) or runs them.

Nothing here is uploaded with the functions (`.gcloudignore`), and the functions import nothing
from here.
"""
