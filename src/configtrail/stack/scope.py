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
    """Default frequency and its one override (pulumi-aws takes a single override object).

    CONTINUOUS by default: churny types recorded DAILY, for cost. DAILY by default: the types AWS
    records only continuously (`AWS::Config::ResourceCompliance` ...) are listed as CONTINUOUS,
    because the RecordingMode API refuses DAILY for them in an explicit type list (with
    `all_supported` AWS keeps them continuous itself).
    """
    mode: dict = {"recording_frequency": settings.recording_frequency}
    listed = None if settings.recording_profile == "all" else set(recorded_types(settings, home))
    if settings.recording_frequency == "DAILY":
        continuous = catalog.continuous_only_types() & listed if listed else set()
        if continuous:
            mode["recording_mode_override"] = {
                "description": "Types AWS Config records only continuously",
                "recording_frequency": "CONTINUOUS",
                "resource_types": sorted(continuous),
            }
        return mode
    daily = set(settings.daily_resource_types)
    if listed is not None:
        daily &= listed
    if daily:
        mode["recording_mode_override"] = {
            "description": "Churny types recorded daily to keep the Config bill predictable",
            "recording_frequency": "DAILY",
            "resource_types": sorted(daily),
        }
    return mode
