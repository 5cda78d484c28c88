"""An issuer's transparency log: its leaves, stored subtree hashes, checkpoints and log key.

Everything here is append-only except a key's state: a leaf, a subtree hash or a checkpoint,
once written, is part of what outsiders may already hold, and changing one would show as an
inconsistent log.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from config.tenancy import IssuerScopedManager
from issuers.models import Issuer


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The transparency log is append-only.")

    def delete(self):
        raise TypeError("The transparency log is append-only.")


AppendOnlyManager = IssuerScopedManager.from_queryset(AppendOnlyQuerySet)


class _AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise TypeError("The transparency log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The transparency log is append-only.")


class LogLeaf(_AppendOnly):
    """Leaf ``index`` of an issuer's log: the public form of its SealEvent ``seq = index + 1``."""

    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="log_leaves")
    index = models.PositiveBigIntegerField()
    data = models.BinaryField(help_text="RFC 8785 canonical JSON of the redacted event.")
    hash = models.BinaryField(help_text="SHA-256(0x00 || data).")

    objects = AppendOnlyManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "index"], name="one_leaf_per_log_index")
        ]

    def __str__(self) -> str:
        return f"leaf {self.index}"


class LogNode(_AppendOnly):
    """The hash of the perfect subtree of ``2**level`` leaves at ``index``, kept for levels 8,
    16, ... (the hashes of level 1, 2, ... tiles), so no read hashes more than 255 of them."""

    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="log_nodes")
    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hash = models.BinaryField()

    objects = AppendOnlyManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "level", "index"], name="one_log_node_per_position"
            )
        ]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class LogCheckpoint(_AppendOnly):
    """A signed C2SP checkpoint of the log at ``size``; at most one per size, ever."""

    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="log_checkpoints")
    size = models.PositiveBigIntegerField()
    root_hash = models.BinaryField()
    note = models.TextField(help_text="The signed note, as served.")
    created_at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "size"], name="one_checkpoint_per_size")
        ]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class LogKey(models.Model):
    """The Ed25519 key that signs an issuer's checkpoints, its own use apart from the keys that
    sign credentials: a log key outlives credential key rotations, since every monitor pins it.
    The private half is stored only encrypted with the key-encryption key, as signing keys are
    (seals.keys)."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="log_keys")
    name = models.CharField(max_length=300, help_text="Key name, the log's origin line.")
    public_key = models.BinaryField(help_text="Raw 32-byte Ed25519 public key.")
    private_key_encrypted = models.BinaryField(editable=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)

    objects = IssuerScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issuer"],
                condition=models.Q(state="active"),
                name="one_active_log_key_per_issuer",
            )
        ]

    def __str__(self) -> str:
        return self.name
