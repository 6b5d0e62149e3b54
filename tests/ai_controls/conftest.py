"""The AI workload pack's package (policies/ai-workloads/configtrail_ai_policies) is imported
from its directory, as the pack process imports it (its directory is the working directory)."""

import sys

from configtrail.ai_pack import AI_PACK_DIR

if str(AI_PACK_DIR) not in sys.path:
    sys.path.insert(0, str(AI_PACK_DIR))
