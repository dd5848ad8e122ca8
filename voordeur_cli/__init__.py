"""The `voordeur` command: set-up, training, running and testing of the whole system.

Standard library only: it has to run on a fresh machine before the project's virtual
environments exist, and it is what creates them.
"""
