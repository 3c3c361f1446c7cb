"""mini_fake_volume.py — Cinder's fake volume driver, completed for the local cloud.

cinder.tests.fake_driver.FakeLoggingVolumeDriver (Debian's python3-cinder, Zed) makes volumes
without any storage, the counterpart of Nova's fake virt driver. Two of its calls still reach for
an LVM device that does not exist, and the volume ends in an error state:

- extend (available or attached): FakeBrickLVM has no extend_volume -> AttributeError ->
  status error_extending;
- create from an image: LVMVolumeDriver.copy_image_to_volume runs qemu-img into
  /dev/mapper/cinder--volumes-volume--<id> -> ImageCopyFailure -> status error (so Nova's boot
  from volume and "source_type image, destination_type volume" block devices fail too).

This driver does both as records only, like the rest of the fake driver. up.sh sets it as
[fake] volume_driver = mini_fake_volume.MiniFakeVolumeDriver (pylib/ is on PYTHONPATH).
"""
from cinder.tests import fake_driver
from cinder.volume import volume_utils


class MiniFakeVolumeDriver(fake_driver.FakeLoggingVolumeDriver):
    @volume_utils.trace_method
    def extend_volume(self, volume, new_size):
        """Nothing to grow: the volume's size is its record's."""

    @volume_utils.trace_method
    def copy_image_to_volume(self, context, volume, image_service, image_id):
        """Nothing to write: Cinder still records the image's metadata and marks the volume bootable."""

    @volume_utils.trace_method
    def copy_volume_to_image(self, context, volume, image_service, image_meta):
        """Not used by the tests; refuse rather than upload an empty image."""
        raise NotImplementedError("the local cloud's fake volumes hold no data to upload")
