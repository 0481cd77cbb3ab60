import pytest

from mmeb.cli import build_parser, main


def test_demo_command_is_registered_with_its_options():
    args = build_parser().parse_args(["demo", "--out", "d", "--steps", "7", "--seed", "3"])
    assert (args.out, args.steps, args.seed, args.threads) == ("d", 7, 3, 1)
    assert callable(args.func)


@pytest.mark.parametrize("flag", ["--steps", "--threads"])
def test_bad_numbers_are_refused_before_any_work(tmp_path, capsys, flag):
    assert main(["demo", "--out", str(tmp_path / "d"), flag, "0"]) == 2
    assert f"{flag} must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_a_directory_holds_one_seed(tmp_path, capsys):
    from mmeb.demo.pipeline import DemoConfig, _claim_directory

    _claim_directory(DemoConfig(out_dir=tmp_path, seed=0))
    _claim_directory(DemoConfig(out_dir=tmp_path, seed=0))  # same seed: fine
    with pytest.raises(Exception, match="seed 0, not 1"):
        _claim_directory(DemoConfig(out_dir=tmp_path, seed=1))
