"""Roster imports: a spreadsheet of units, counselors or pupils, checked row by row as a
whole, and applied all or nothing (a file with any error applies nothing and gives back a
report: the same sheet with an error column)."""
