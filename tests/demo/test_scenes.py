import random

from mmeb.demo import scenes as S


def _colour_pixels(image, colour):
    rgb = S.COLOURS[colour]
    return sum(1 for p in image.getdata() if p == rgb)


def test_render_is_deterministic_and_draws_each_object():
    scene = S.multi_object_scene(random.Random(3), [("red", "circle"), ("blue", "cross"), ("green", "square")])
    a, b = S.png_bytes(S.render(scene)), S.png_bytes(S.render(scene))
    assert a == b
    image = S.render(scene)
    assert image.size == (S.SCENE_PX, S.SCENE_PX)
    for colour in ("red", "blue", "green"):
        assert _colour_pixels(image, colour) > 20, colour
    assert _colour_pixels(image, "yellow") == 0


def test_multi_object_scene_puts_objects_left_to_right_in_distinct_columns():
    scene = S.multi_object_scene(random.Random(0), [("red", "circle"), ("blue", "cross")])
    columns = [s.column for s in scene.shapes]
    assert len(set(columns)) == 2
    assert [S.COLUMNS.index(c) for c in columns] == sorted(S.COLUMNS.index(c) for c in columns)
    assert scene.shapes[0].cx < scene.shapes[1].cx


def test_crop_shows_mostly_its_object():
    scene = S.multi_object_scene(random.Random(1), [("red", "circle"), ("blue", "cross"), ("green", "triangle")])
    piece = S.crop(scene, 1)
    assert piece.size == (S.OBJECT_PX, S.OBJECT_PX)
    counts = {c: sum(1 for p in piece.getdata() if max(abs(x - y) for x, y in zip(p, S.COLOURS[c])) < 30)
              for c in ("red", "blue", "green")}
    assert counts["blue"] > 5 * max(counts["red"], counts["green"], 1)


def test_jitter_keeps_the_objects_and_changes_the_pixels():
    rng = random.Random(2)
    scene = S.multi_object_scene(rng, [("red", "circle")])
    again = S.jitter(scene, rng)
    assert [s.label for s in again.shapes] == [s.label for s in scene.shapes]
    assert S.png_bytes(S.render(again)) != S.png_bytes(S.render(scene))


def test_document_renders_text():
    image = S.render_document([("name", "anna"), ("city", "rome")], random.Random(0))
    dark = sum(1 for p in image.getdata() if sum(p) < 200)
    assert dark > 50
