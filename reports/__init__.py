"""Reports: read-only views of the cooperative (annual benefit report, member
statements, transparency). Nothing here writes state."""
