"""CyTube vocabulary as data: subjects, events and commands. No I/O."""
