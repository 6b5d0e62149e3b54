"""Offline evaluation of the CrossGuard policy pack (policies/) over the Analyzer protocol."""
