"""Agreement as data: parties, contact line, zones, protected objects, rules."""

from trucewatch.agreement.agreement import (
           Agreement,
           ProtectedObject,
           WeaponClass,
           Zone,
           load_agreement,
           validate_agreement,
)
from trucewatch.agreement.spec import AgreementError, AgreementProblem

__all__ = ["Agreement", "AgreementError", "AgreementProblem", "ProtectedObject", "WeaponClass", "Zone",
           "load_agreement", "validate_agreement"]
