"""Bad input, faults and attacks: memfix never runs, escapes or loses anything."""
