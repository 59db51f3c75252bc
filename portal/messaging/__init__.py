"""Secure messaging between the family and the therapist (DESIGN §6)."""
