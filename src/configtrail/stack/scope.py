"""What a regional recorder records, and how often: pure functions of the settings.

Global resource types (IAM) are recorded in the home region only; every other region would record
the same items again and bill them. Narrowed recording always keeps
`AWS::Config::ResourceCompliance`, which console compliance reporting needs.
"""

from __future__ import annotations

from configtrail import catalog
from configtrail.settings import Settings


def recorded_types(settings: Settings, home: bool) -> list[str]:
    """The explicit type list of an `ai-systems` recorder in one region."""
    types = set(catalog.ai_systems_types()) | set(settings.extra_resource_types)
    types |= set(catalog.always_recorded_types())
    if not home:
        types -= set(catalog.global_resource_types())
    return sorted(types)


def recording_group(settings: Settings, home: bool) -> dict:
    """`recording_group` for the recorder of the home region (`home=True`) or another region."""
    if settings.recording_profile == "all":
        return {"all_supported": True, "include_global_resource_types": home}
    return {
        "all_supported": False,
        "include_global_resource_types": False,
        "resource_types": recorded_types(settings, home),
        "recording_strategies": [{"use_only": "INCLUSION_BY_RESOURCE_TYPES"}],
    }


def recording_mode(settings: Settings, home: bool) -> dict:
    """Default frequency, with churny types recorded DAILY when the default is CONTINUOUS."""
    mode: dict = {"recording_frequency": settings.recording_frequency}
    daily = set(settings.daily_resource_types)
    if settings.recording_profile == "ai-systems":
        daily &= set(recorded_types(settings, home))
    if settings.recording_frequency == "CONTINUOUS" and daily:
        mode["recording_mode_override"] = {
            "description": "Churny types recorded daily to keep the Config bill predictable",
            "recording_frequency": "DAILY",
            "resource_types": sorted(daily),
        }
    return mode
