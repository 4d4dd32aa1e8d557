"""grievance: a grievance mechanism that migrant workers reach from any phone."""

__version__ = "0.1.0"
