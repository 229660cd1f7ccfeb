"""Predictions shown to people: the table view for terminals and the HTML report.

Views only render what they are given (labeled records, document predictions); the jobs
that score and write them are in ``stancekit.jobs``.
"""
