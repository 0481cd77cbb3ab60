"""MMEB-V2 data: annotation repos (Hub or a local mirror in the ``push_to_hub`` layout), the media repo's frame
folders and images, visual-document corpora with their qrels. :func:`mmeb.data.v2.load.load_v2_task` is the
entry point; :mod:`mmeb.data.v2.layout` owns every path."""
