"""The PDF report for a doctor (a tracked spot or one analysed photo)."""
