"""ASF (Alaska Satellite Facility): the SearchAPI burst harvester."""
