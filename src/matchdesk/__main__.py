"""`python -m matchdesk`: the command line."""

from matchdesk.cli import main

main()
