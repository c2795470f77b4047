"""The data sets the course uses: where each comes from, what it holds, its licence.

`DATASETS` maps each name to a `Dataset`: its official source, the files a copy must contain
and the pinned sha256 of each (so `course_utils.data.fetch.verify` can tell a good copy from
a truncated download, a different release or an edited file). Adding a data set to the course
is adding an entry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["DATASETS", "Dataset"]


@dataclass(frozen=True)
class Dataset:
    """One course data set.

    Attributes:
        name: folder name, as the official archive unpacks (e.g. `ml-100k`).
        urls: official sources, named in errors.
        download_url: what an automatic download fetches (`None`: manual only).
        files: relative path -> sha256 of every file a copy must contain.
        optional: relative path -> sha256 of files that are verified when present.
        archive: `zip`, `tgz` or `None` (a single file downloaded as is).
        archive_hash: pooch-style hash of the archive (`md5:...`), if published.
        licence: one line on what the licence allows.
        manual: instructions when no automatic download is possible.
    """

    name: str
    urls: tuple[str, ...]
    files: Mapping[str, str]
    optional: Mapping[str, str] = field(default_factory=dict)
    download_url: str | None = None
    archive: str | None = "zip"
    archive_hash: str | None = None
    licence: str = ""
    manual: str = ""


_ML100K_HASHES = {
    "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
    "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
    "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
    "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
    "u.occupation": "cd5fbec9afe345d993a62fc7817df1a4a9079c4feb267b3118763b8fd942137d",
    "u.info": "5b0a40b2e47a729ee6203063f6dcf8790c2e63f5a18663e6ee318a72c5f3c27b",
    "README": "4883b8cf340ed0059971b33f56ad3adc88a40792108ebca3d24aafc4c82e8b52",
    "u1.base": "ce253ec86c448b44fb3ba9a30d12dcfc2e9210cbde71efada3730c22e9ac212a",
    "u1.test": "18c6014a4b2c7324f250a63f8904a7b16b2b19f911129e346141507b0cbac950",
    "u2.base": "6c06f0b5df4b256da1a994f3ac66edc8da4d3f09bc9282df6b14d893366d703e",
    "u2.test": "4de658d1e04ed9104629509a2e2528fce833ac8e048280183f1df167632038c3",
    "u3.base": "afdc155c291c6edc41c0407e39d7462eb98d341e064f0b0a12175b80b3c4af5d",
    "u3.test": "0f548b51c78327de4c156461d3e430b7e5579fe2b5681586a59416e48fd35f6d",
    "u4.base": "219f0f4d40dfe9c5141d425f53fa91ee23ed275f14e280bbf1b50117afb064ca",
    "u4.test": "7c02ad0a1e7ab1083c8b9d4b627203a051dd7b5eab46d99fa44de33470de8db9",
    "u5.base": "a9574e59ce961eec2121627760b6e9b0974ce1637b3fe69ac32cb14a4bfab485",
    "u5.test": "351cc52e0d15b6c721466276fc24671d40936899e3d01fadeaf312915b8c5634",
    "ua.base": "67b5bcdb380c29f85d56a012ecd88612ae020f30a6730d117a334ee8203b91f2",
    "ua.test": "d0497e202417720f57a184ec8c66be2d1afa4ff41bb53787c57b28d6bf79bc42",
    "ub.base": "237254d253b6ad7de84f919d041055428646254f34ed8f562703c899430cd881",
    "ub.test": "d54a72d05730d5892062734b2bec73e976f9b713d18c828a18b968d6cce442da",
}

_ROSSMANN_OPTIONAL = {
    "sample_submission.csv": "28450b4b567f66bab94a055a6f82c48d61a669c188f21af70693ea87fb481dee",
    "googletrend/Rossmann_DE.csv": "a45718606dbc5038a0add240a23da05c0afcce412b5a6c47ee7c908fb1739ed8",
    "googletrend/Rossmann_DE_BE.csv": "fe4eaa3444a6ed7a5e37d9b33d1b535546e6d5c8888787663ecbc7d21fdb8701",
    "googletrend/Rossmann_DE_BW.csv": "2d163fab6e8a8218e6fa0350087e073b4ebe62273dcaa63ba64350b88bfb027e",
    "googletrend/Rossmann_DE_BY.csv": "d519c24032aaa7e2ccf835869d64b90f73a908f0b9d58dcda528c432389042e9",
    "googletrend/Rossmann_DE_HE.csv": "905e19ebb716906b615ef45bca976b3cf841c2fd4a1de398b5789836efa1bd42",
    "googletrend/Rossmann_DE_HH.csv": "559cedde6ad0b249bbe0ff0d7444414cee89babd53d0d13cf49bc267291eb1dc",
    "googletrend/Rossmann_DE_NI.csv": "73783631fdbcb8888667bfd5e7ca1f2c500c4606fca661753da8eda13513a1b5",
    "googletrend/Rossmann_DE_NW.csv": "57d57f369e45cbc8343720b2edfa6847185092145851ffa9aaa693536fa9eb63",
    "googletrend/Rossmann_DE_RP.csv": "2e7195889de1d502f35a0f0bbfd336934aa21d6433da6173b778de9300629db4",
    "googletrend/Rossmann_DE_SH.csv": "11fbed72bfda5ee028d08fd3b94c9f89db0ed6d3bc5645d9760501fad2879c1c",
    "googletrend/Rossmann_DE_SL.csv": "7bd0b19c1180ec80c4e9af0bf803cc040d9376256d3aa1ee6b061ab4adef6921",
    "googletrend/Rossmann_DE_SN.csv": "7ee213d1c3a051b9a30909ecd40b6525affa54fd2a6559fcb1d828897ba1cf02",
    "googletrend/Rossmann_DE_ST.csv": "fc416c4fc3de5603c3234bbaff88acad00b14bd5cb3e9189db2d464c5ae8493e",
    "googletrend/Rossmann_DE_TH.csv": "7a47a9ed0334fb5be57a31c28a4d4f1247d0f9fc1333d1dc07ed3bb1cd60dc47",
    "weather/BadenWuerttemberg.csv": "c3c6d717de43c9dd17546b52955b1d1c3cfd48aedb6e73a29aab666acbdb30dd",
    "weather/Bayern.csv": "18aa309de47ac82ac07b99f8745b84992e930fa8a59ed7d0d28977ad4021bce4",
    "weather/Berlin.csv": "457226853460c4a2a4f56a139021c75f14d36af673dfe605dc0d8f5ac65a447b",
    "weather/Brandenburg.csv": "2710b431470ae7b9214c7ff2cfe0b7296a1e0894568e661caab6fdf9d3210cf7",
    "weather/Bremen.csv": "ddc39a2f08c89a640c8d059d90e3a402e5db7af2e85debdb0f2dbb80a263e959",
    "weather/Hamburg.csv": "1ba9cbaaae7ce4d12e97615d203fed66b5953426443b33ecf494e30a4844b44b",
    "weather/Hessen.csv": "d61c880eef715ef9b6fce49c0730cf8c60ff3cec5afb5e9ce654653906d24e3d",
    "weather/MecklenburgVorpommern.csv": "3ffac775703830081a64981a94ffd3440de5458de09950679e2954ee79fb61ea",
    "weather/Niedersachsen.csv": "182ca87a14e2952368441457844ca89b2e8cc10f35a1605026d044b5d08e70d8",
    "weather/NordrheinWestfalen.csv": "6df57c8a186dfae9bcb2ab13fb563934ff6d5e4ed9d1cfa0be5de32e34e4ad43",
    "weather/RheinlandPfalz.csv": "39264926ecb3abd5a6629b0f0f69c46babbb4cd813c6f051283ea771c2fe4e06",
    "weather/Saarland.csv": "f44206309b80ac2ab763760cf6ad184a717e972ee2236885456dd56ab4bedfb1",
    "weather/Sachsen.csv": "34177cd3c45ecd7b6ac7b3f8c5db5a59ec5ee00a9498d6ed9ada92f67cad94a6",
    "weather/SachsenAnhalt.csv": "e1b288128315baa9717eda7fd0279268397c530416fa1f03cef5c2cd87ef1a08",
    "weather/SchleswigHolstein.csv": "3ffac775703830081a64981a94ffd3440de5458de09950679e2954ee79fb61ea",
    "weather/Thueringen.csv": "6ace42d2cb8156cf188e71978165e2e68ec895f21d9cd5bc5e1ff33dbfcae249",
}

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            name="ml-latest-small",
            urls=("https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",),
            download_url="https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
            files={
                "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
                "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
                "tags.csv": "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d",
                "links.csv": "97ad18e4e56a09363c65676b6cb3482ce3e2cea2372a24620c1599c843325f31",
                "README.txt": "e165937702ae1fac9237b6bd377f03d027f7ef97175d4a04a203e8b12d5516ea",
            },
            licence="GroupLens research licence: research use, no redistribution outside its terms, "
            "cite Harper & Konstan (2015).",
        ),
        Dataset(
            name="ml-100k",
            urls=("https://files.grouplens.org/datasets/movielens/ml-100k.zip",),
            download_url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
            files=_ML100K_HASHES,
            archive_hash="md5:0e33842e24a9c977be4e0107933c0723",
            licence="GroupLens: may not be redistributed without permission; download only.",
        ),
        Dataset(
            name="nietzsche",
            urls=("https://s3.amazonaws.com/text-datasets/nietzsche.txt",),
            download_url="https://s3.amazonaws.com/text-datasets/nietzsche.txt",
            files={
                "nietzsche.txt": "23cf69874ab69d3d256099ab530ea4be24d47d9675b673bcc67cbcd6298ec647"
            },
            archive=None,
            licence="Public domain (Project Gutenberg translation).",
        ),
        Dataset(
            name="rossmann",
            urls=(
                "https://www.kaggle.com/competitions/rossmann-store-sales/data",
                "https://files.fast.ai/part2/lesson14/rossmann.tgz",
            ),
            files={
                "store.csv": "f56bd124a2849489e6bbb5c000f5fc9640204355e316475c918ae4d089afb344",
                "test.csv": "f9d44250c2887afa4ce0e5b19b5383a2cb07667ca4eea07ed62b37dd41ba050b",
                "store_states.csv": "86df632ad7469a4ed961df9844ff8a15ef9cbcd545514945a7291ccfb32b9797",
            },
            optional=_ROSSMANN_OPTIONAL,
            download_url="https://files.fast.ai/part2/lesson14/rossmann.tgz",
            archive="tgz",
            licence="Kaggle competition rules: no redistribution outside Kaggle; download only.",
            manual=(
                "Rossmann comes from Kaggle and needs an account that accepted the competition "
                "rules: `pip install kaggle`, put your API token in ~/.kaggle/kaggle.json, then "
                "`kaggle competitions download -c rossmann-store-sales` and unzip into "
                "data/rossmann/. The extras (store_states.csv, googletrend, weather) come from "
                "fast.ai's rossmann.tgz. Without train.csv the course simulates one (see "
                "course_utils.data.rossmann)."
            ),
        ),
    ]
}
