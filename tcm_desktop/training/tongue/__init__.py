"""Training code for the tongue-photo models (torch; never imported by the app core)."""
